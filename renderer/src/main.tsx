import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createTransport } from './api/client.js';
import { App } from './App.js';
import { useApp } from './store.js';
import './styles.css';

void useApp.getState().init(createTransport());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
