/**
 * core/video: ffmpeg/ffprobe location, probing, frame decoding and audio extraction (see README.md).
 */
export {
  atLeast,
  clearToolCache,
  locateFfmpeg,
  locateFfprobe,
  locateTool,
  TOOL_ENV_VARS,
  TOOL_PACKAGES,
  type ToolInfo,
  type ToolName,
  type ToolSource,
} from './tools.js';
export { checkInputFile, type InputFile } from './process.js';
export {
  probeMedia,
  probeVideo,
  type AudioStreamInfo,
  type FrameRateCheck,
  type MediaProbe,
  type ProbeOptions,
  type Rotation,
  type VideoProbe,
  type VideoStreamInfo,
  type VideoStreamListing,
} from './probe.js';
export {
  streamFrames,
  streamFramesMulti,
  toRational,
  type FrameOutputSpec,
  type FrameStream,
  type FrameTimingOptions,
  type MultiVideoFrame,
  type OutputLayout,
  type PixelFormat,
  type Scaler,
  type StreamFramesMultiOptions,
  type StreamFramesOptions,
  type VideoFrame,
} from './frames.js';
export {
  encodeWav,
  extractAudio,
  wavHeader,
  type AudioSamples,
  type ExtractAudioBaseOptions,
  type ExtractAudioOptions,
  type WavBytes,
  type WavFile,
  type WavSampleFormat,
} from './audio.js';
