// A local image of the embedded server that behaves like ghcr.io/shopify/toxiproxy (same
// flags, same API, same default command), for machines that cannot pull the real one.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenericContainer, getContainerRuntimeClient, ImageName } from 'testcontainers';

export const EMBEDDED_IMAGE_TAG = 'localhost/faultline-toxiproxy:local';

export interface BuildImageOptions {
  /** A local image with `node` (>= 22.12) on PATH and `/bin/sh`. Default env `FAULTLINE_NODE_IMAGE`, else `localhost/node:local`. */
  baseImage?: string;
  /** Default `localhost/faultline-toxiproxy:local`. */
  tag?: string;
}

export interface BuiltImage {
  tag: string;
  baseImage: string;
  durationMs: number;
}

/** The generated Dockerfile (exported for the README and tests). */
export function embeddedServerDockerfile(baseImage: string): string {
  return [
    `FROM ${baseImage}`,
    'COPY app/ /app/',
    'WORKDIR /app',
    'LABEL org.opencontainers.image.description="faultline embedded Toxiproxy v2.12-compatible server"',
    'EXPOSE 8474',
    'ENTRYPOINT ["node", "/app/bin/faultline-toxiproxy.js"]',
    'CMD ["-host=0.0.0.0", "-port=8474"]',
    '',
  ].join('\n');
}

/** A package's directory, found through module resolution (its entry is `<dir>/dist/index.js`). */
function packageDir(name: string): string {
  return dirname(dirname(fileURLToPath(import.meta.resolve(name))));
}

/** Copies a built package (`dist/`, `bin/` if any, package.json) to `to`. */
async function copyBuilt(from: string, to: string): Promise<void> {
  await cp(join(from, 'dist'), join(to, 'dist'), { recursive: true });
  await cp(join(from, 'bin'), join(to, 'bin'), { recursive: true }).catch(() => undefined);
  await cp(join(from, 'package.json'), join(to, 'package.json'));
}

/**
 * packages/toxiproxy and its dependencies: its only ones are faultline siblings without dependencies
 * of their own (@faultline/evidence: the seed module and the Node version guard), copied built into
 * the app's node_modules; anything else would need an npm install in the image, which this refuses.
 */
export async function copyServer(app: string): Promise<void> {
  const pkg = packageDir('@faultline/toxiproxy');
  await copyBuilt(pkg, app);
  const { dependencies = {} } = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const name of Object.keys(dependencies)) {
    if (!name.startsWith('@faultline/')) {
      throw new Error(`netfaults: @faultline/toxiproxy depends on ${name}, which the image build cannot copy`);
    }
    await copyBuilt(packageDir(name), join(app, 'node_modules', name));
  }
}

/**
 * Builds the embedded server image from a generated context (packages/toxiproxy's built `dist/`,
 * `bin/` and package.json, with its sibling dependencies) on a local Node base image, through testcontainers' build API.
 */
export async function buildEmbeddedServerImage(options: BuildImageOptions = {}): Promise<BuiltImage> {
  const baseImage = options.baseImage ?? (process.env.FAULTLINE_NODE_IMAGE || undefined) ?? 'localhost/node:local';
  const tag = options.tag ?? EMBEDDED_IMAGE_TAG;
  const started = performance.now();
  const client = await getContainerRuntimeClient();
  if (!(await client.image.exists(ImageName.fromString(baseImage)))) {
    throw new Error(
      `netfaults: base image ${baseImage} does not exist locally (on Podman CI machines, run ci/enable-podman.sh with NODE_BIN=$(command -v node), or set FAULTLINE_NODE_IMAGE)`,
    );
  }
  const context = await mkdtemp(join(tmpdir(), 'faultline-toxiproxy-image-'));
  try {
    await copyServer(join(context, 'app'));
    await writeFile(join(context, 'Dockerfile'), embeddedServerDockerfile(baseImage));
    await GenericContainer.fromDockerfile(context).build(tag, { deleteOnExit: false });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return { tag, baseImage, durationMs: Math.round(performance.now() - started) };
}
