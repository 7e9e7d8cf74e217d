// Builds localhost/faultline-toxiproxy:local (the embedded server on a local Node image).
// Usage: node packages/netfaults/scripts/build-image.ts [--base IMAGE] [--tag TAG]
// Needs DOCKER_HOST (or a default socket) pointing at an engine.
import { parseArgs } from 'node:util';
import { buildEmbeddedServerImage } from '../src/image.ts';

const { values } = parseArgs({ options: { base: { type: 'string' }, tag: { type: 'string' } } });
try {
  const built = await buildEmbeddedServerImage({
    ...(values.base ? { baseImage: values.base } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
  });
  console.log(`built ${built.tag} from ${built.baseImage} in ${built.durationMs} ms`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
