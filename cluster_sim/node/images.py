"""Container image references as containerd sees them: normalised names, digests, sizes, pulls.

Names are normalised like docker/distribution's `ParseNormalizedNamed`: `nginx` is
`docker.io/library/nginx:latest`. Digests are derived from the name (sha256 of it), so the same
image has the same id on every node and in every run. An image "exists" unless its reference
says otherwise: a tag or repository containing `doesnotexist`/`nonexistent` answers "not found",
and so does a version tag of a well-known official image newer than its newest release (a typo
such as `nginx:1.288`);
a registry host under a reserved, never-resolving TLD (`.invalid`, `.example`, `.test`) or named
`nonexistent...` fails DNS resolution. Both errors carry containerd 1.7's texts.
"""
from __future__ import annotations

import hashlib

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_PREFIX = "library/"
# Pull model: one registry round trip set (resolve, manifest, config) then the layers at 50 MB/s.
PULL_LATENCY_MS = 400
PULL_BYTES_PER_MS = 50_000
PULL_NOT_FOUND_MS = [300, 700]
PULL_DNS_FAILURE_MS = [20, 80]
# Sizes (compressed, as containerd reports them) of images learners commonly use.
KNOWN_SIZES = {
    "docker.io/library/nginx": 72_100_000,
    "docker.io/library/busybox": 2_160_000,
    "docker.io/library/alpine": 3_650_000,
    "docker.io/library/redis": 45_900_000,
    "docker.io/library/httpd": 58_300_000,
    "docker.io/library/postgres": 158_000_000,
    "docker.io/library/python": 412_000_000,
    "docker.io/library/ubuntu": 29_700_000,
    "registry.k8s.io/e2e-test-images/agnhost": 52_700_000,
    "registry.k8s.io/pause": 320_000,
}
MISSING_MARKERS = ("doesnotexist", "does-not-exist", "nonexistent")
# Newest release (as of Kubernetes v1.33's time, mid 2025) of official images learners use: a
# version tag above it does not exist on the registry.
NEWEST_RELEASES = {
    "docker.io/library/nginx": [1, 29, 0],
    "docker.io/library/busybox": [1, 37, 0],
    "docker.io/library/alpine": [3, 22, 0],
    "docker.io/library/redis": [8, 0, 2],
    "docker.io/library/httpd": [2, 4, 63],
    "docker.io/library/postgres": [17, 5],
    "docker.io/library/python": [3, 13, 5],
    "docker.io/library/ubuntu": [25, 4],
    "registry.k8s.io/pause": [3, 10],
}
UNRESOLVABLE_SUFFIXES = (".invalid", ".example", ".test")


def split_reference(image: str) -> list[str]:
    """[domain, path, tag, digest] of a normalised reference (tag or digest may be "")."""
    name, _, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    tag = ""
    last_segment = path.rsplit("/", 1)[-1]
    if ":" in last_segment:
        path, _, tag = path.rpartition(":")
    if not tag and not digest:
        tag = "latest"
    return [domain, path, tag, digest]


def normalize(image: str) -> str:
    domain, path, tag, digest = split_reference(image)
    text = f"{domain}/{path}"
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return text


def repository(image: str) -> str:
    domain, path, _tag, _digest = split_reference(image)
    return f"{domain}/{path}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def image_id(image: str) -> str:
    """The image's config digest (what `crictl images` shows as IMAGE ID, in full)."""
    return "sha256:" + _sha256("config:" + normalize(image))


def repo_digest(image: str) -> str:
    """`docker.io/library/nginx@sha256:...`: what containerStatuses[].imageID shows."""
    _domain, _path, _tag, digest = split_reference(image)
    return f"{repository(image)}@{digest or 'sha256:' + _sha256('manifest:' + normalize(image))}"


def size_bytes(image: str) -> int:
    known = KNOWN_SIZES.get(repository(image))
    if known is not None:
        return known
    # Unknown images: a stable size between 10 MB and 190 MB.
    return 10_000_000 + int(_sha256("size:" + repository(image))[:8], 16) % 180_000_000


def pull_duration_ms(size: int) -> int:
    return PULL_LATENCY_MS + size // PULL_BYTES_PER_MS


def pull_failure(image: str) -> str | None:
    """containerd's error for a pull that cannot succeed, or None when the image exists."""
    normalized = normalize(image)
    domain, path, tag, _digest = split_reference(image)
    if domain.endswith(UNRESOLVABLE_SUFFIXES) or domain.startswith("nonexistent"):
        host = domain.split(":")[0]
        return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{normalized}": '
                f'failed to resolve reference "{normalized}": failed to do request: '
                f'Head "https://{domain}/v2/{path}/manifests/{tag or "latest"}": '
                f"dial tcp: lookup {host} on 127.0.0.53:53: no such host")
    if any(marker in (path + ":" + tag).lower() for marker in MISSING_MARKERS) or \
            _newer_than_newest_release(f"{domain}/{path}", tag):
        return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{normalized}": '
                f'failed to resolve reference "{normalized}": {normalized}: not found')
    return None


def _newer_than_newest_release(repository_name: str, tag: str) -> bool:
    """A version tag ("1.288", "7.2-alpine") above the repository's newest known release."""
    newest = NEWEST_RELEASES.get(repository_name)
    version_text = tag.split("-", 1)[0]
    parts = version_text.split(".")
    if newest is None or not all(part.isdigit() for part in parts):
        return False
    return [int(part) for part in parts] > newest[:len(parts)]


def failure_is_dns(error: str) -> bool:
    return "no such host" in error
