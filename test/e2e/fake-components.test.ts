import { describe, expect, it } from 'vitest';
import { ndarray, type PyValue } from '../../core/npz/index.js';
import { artifactMeta } from '../../core/pipeline/artifact.js';
import { formatProblem, listSchemaComponents, loadSchema, validateNpz } from '../../core/schema/index.js';
import { sampleIdentity } from '../helpers/manifest.js';
import { schemaArtifact } from './fake-components.js';

describe('schemaArtifact (the test components’ artifacts)', () => {
  it.each(listSchemaComponents())('makes a valid ok artifact of %s from its schema', (component) => {
    const schema = loadSchema(component);
    const contents = schemaArtifact(schema);
    const generated = contents.get('meta')!.data[0] as { [key: string]: PyValue };
    const meta = { ...generated, ...artifactMeta({ identity: sampleIdentity(), producer: schema.component, producerVersion: '1.0.0', schemaVersion: schema.schema_version, status: 'ok' }) };
    contents.set('meta', ndarray.objectScalar(meta));
    const validation = validateNpz(contents, { schema });
    expect(validation.problems.map(formatProblem)).toEqual([]);
  });
});
