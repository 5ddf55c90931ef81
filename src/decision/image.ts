/** The GitLab default image for agent flows. */
export const DEFAULT_IMAGE =
  'registry.gitlab.com/gitlab-org/duo-workflow/default-docker-image';

/** The first default-image version that supports the sandbox. */
export const MIN_VERSION: readonly [number, number, number] = [0, 0, 6];

/** An image reference split into repository, tag and digest. */
export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits `repo[:tag][@digest]`; a registry port (`host:5000/x`) is not a tag. */
export function parseImageRef(ref: string): ImageRef {
  const [nameTag, digest] = ref.trim().split('@', 2) as [string, string?];
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  if (colon > slash) {
    return {
      repository: nameTag.slice(0, colon),
      tag: nameTag.slice(colon + 1),
      digest,
    };
  }
  return { repository: nameTag, digest };
}

/** `v0.0.6`, `0.0.6`, `v0.0.6-rc1` → [0,0,6]; anything else undefined. */
export function parseVersionTag(
  tag: string,
): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(tag);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The verdict on the job image, with the reason in words. */
export function judgeImage(ref: string | undefined): {
  ok: boolean;
  reason: string;
} {
  if (!ref)
    return {
      ok: false,
      reason:
        'CI_JOB_IMAGE is not set, so the job does not run the default image',
    };
  const image = parseImageRef(ref);
  if (image.repository !== DEFAULT_IMAGE) {
    return {
      ok: false,
      reason: `job image ${image.repository} is not the default image ${DEFAULT_IMAGE}`,
    };
  }
  if (!image.tag && image.digest) {
    return {
      ok: true,
      reason: `default image pinned by digest ${image.digest}; its version cannot be read, so the sandbox applies`,
    };
  }
  if (!image.tag || image.tag === 'latest') {
    return {
      ok: true,
      reason: `default image ${image.tag ? 'tagged latest' : 'without a tag'} is taken as the newest version`,
    };
  }
  const version = parseVersionTag(image.tag);
  if (!version) {
    // A branch or build tag cannot be ordered; sandboxing is the safe side,
    // and the engine probe still catches an image that cannot host it.
    return {
      ok: true,
      reason: `default image tag ${image.tag} is not a version; the sandbox applies`,
    };
  }
  if (compare(version, MIN_VERSION) < 0) {
    return {
      ok: false,
      reason: `default image ${image.tag} is older than v${MIN_VERSION.join('.')}`,
    };
  }
  return {
    ok: true,
    reason: `default image ${image.tag} is v${MIN_VERSION.join('.')} or later`,
  };
}
