// A local image of the embedded server that behaves like ghcr.io/shopify/toxiproxy (same
// flags, same API, same default command), for machines that cannot pull the real one.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

/** packages/toxiproxy, found through module resolution (no npm dependencies to copy). */
function toxiproxyPackageDir(): string {
  const entry = fileURLToPath(import.meta.resolve('@faultline/toxiproxy')); // .../dist/index.js
  return dirname(dirname(entry));
}

/**
 * Builds the embedded server image from a generated context (packages/toxiproxy's built `dist/`,
 * `bin/` and package.json) on a local Node base image, through testcontainers' build API.
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
  const pkg = toxiproxyPackageDir();
  const context = await mkdtemp(join(tmpdir(), 'faultline-toxiproxy-image-'));
  try {
    const app = join(context, 'app');
    await cp(join(pkg, 'dist'), join(app, 'dist'), { recursive: true });
    await cp(join(pkg, 'bin'), join(app, 'bin'), { recursive: true });
    await cp(join(pkg, 'package.json'), join(app, 'package.json'));
    await writeFile(join(context, 'Dockerfile'), embeddedServerDockerfile(baseImage));
    await GenericContainer.fromDockerfile(context).build(tag, { deleteOnExit: false });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return { tag, baseImage, durationMs: Math.round(performance.now() - started) };
}
