"""Build and run the project's Dockerfile for real with podman + runc, without an image registry.

The base image is made from Debian's packages with debootstrap (from the mirror this machine's apt
uses) and kept in podman's image store, so only the first run on a machine pays for it.
``podman build --from`` puts it in place of the Dockerfile's ``FROM`` for this build only.  pip
inside the build gets this machine's pip configuration, constraints, local wheel and index
folders and CA certificates (whatever ``pip config debug`` names), mounted read-only and never
copied into the image.
"""

from __future__ import annotations

import fcntl
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNC = "/usr/sbin/runc"  # crun, podman's default, cannot set rlimits in this kind of sandbox
BASE_IMAGE = "localhost/hubsense-python-base:bookworm"
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-pip", "ca-certificates", "passwd")
BASE_LOCK = "/var/tmp/hubsense-python-base.lock"
INSTALL_HINT = "apt-get install -y podman runc debootstrap (make test-debs does it)"


class PodmanUnavailable(RuntimeError):
    pass


def limits() -> list[str]:
    """``podman run`` limits this process may keep.  Podman would ask for 1048576 open files and as
    many processes, which a sandbox without CAP_SYS_RESOURCE refuses (the container does not start)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return ["--ulimit", f"nofile={soft}:{hard}", "--ulimit", "nproc=4096:4096"]


def podman(*args: str, timeout: float = 120, check: bool = True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(["podman", "--runtime", RUNC, *args], capture_output=True, text=True,
                            timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])} … failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def require_podman() -> None:
    """Raise :class:`PodmanUnavailable` saying why podman cannot build and run images here."""
    missing = [exe for exe in ("podman", "debootstrap") if shutil.which(exe) is None]
    if not Path(RUNC).exists():
        missing.append("runc")
    if missing:
        raise PodmanUnavailable(f"{', '.join(missing)} not installed: {INSTALL_HINT}")
    if os.geteuid() != 0:
        raise PodmanUnavailable("the image test builds a base with debootstrap and runs rootful podman: run it as "
                                "root (CI does)")
    info = subprocess.run(["podman", "--runtime", RUNC, "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        raise PodmanUnavailable(f"podman cannot run here: {info.stderr.strip()[-800:]}")


def apt_mirror() -> str:
    """The Debian mirror apt uses for the main suite (deb822 sources or the one-line format)."""
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    if deb822.exists():
        for stanza in deb822.read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
            if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", "").split():
                return fields["URIs"].split()[0]
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]
    for path in (p for p in sources if p.exists()):
        for line in path.read_text().splitlines():
            words = re.sub(r"\[.*?\]", "", line).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    raise PodmanUnavailable(f"no Debian {SUITE} mirror in /etc/apt/sources.list(.d): debootstrap needs one")


def pip_host_paths() -> list[Path]:
    """Files and folders pip on this machine is configured with (config files, constraints, wheel
    folders, file:// indexes, CA bundle), to be mounted read-only at the same paths in the build."""
    debug = subprocess.run([sys.executable, "-m", "pip", "config", "debug"], capture_output=True, text=True,
                           timeout=60).stdout
    paths = {Path(m) for m in re.findall(r"^\s+(/\S+), exists: True$", debug, re.M)}
    for value in re.findall(r"[:=]\s*'?([^'\n]+)'?$", debug, re.M):
        for word in value.split():
            if word.startswith("file:///"):  # a local index: its pages link to files beside it
                path = Path(word.removeprefix("file://")).parent
            else:
                path = Path(word) if word.startswith("/") else None
            if path is not None and path.exists():
                paths.add(path)
    paths.add(Path("/etc/ssl/certs"))  # the CA bundle (TLS may go through a proxy with its own CA)
    return sorted(p for p in paths if not any(q != p and q in p.parents for q in paths))


def base_exists() -> bool:
    return podman("image", "exists", BASE_IMAGE, check=False).returncode == 0


def build_base() -> None:
    """debootstrap a minimal Debian with python3 and pip, import it as :data:`BASE_IMAGE`."""
    with tempfile.TemporaryDirectory(prefix="hubsense-base-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        done = subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE,
                               str(rootfs), apt_mirror()], capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            raise RuntimeError(f"debootstrap failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)  # pip installs for the image
        for name, target in (("python", "/usr/bin/python3"), ("pip", "/usr/bin/pip3")):
            (rootfs / "usr/local/bin" / name).symlink_to(target)
        (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)  # this machine's mirror stays here
        for junk in ("var/lib/apt/lists", "var/cache/apt/archives"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(["podman", "--runtime", RUNC, "import", "--change",
                                   "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "--change", 'CMD ["python3"]', "-", BASE_IMAGE],
                                  stdin=tar.stdout, capture_output=True, text=True, timeout=600)
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise RuntimeError(f"podman import failed: {imported.stderr[-2000:]}")


def build_image(context: Path, tag: str) -> str:
    """``podman build`` of ``context``'s Dockerfile on :data:`BASE_IMAGE`; returns the image id (run by
    id: another checkout on the machine may build the same tag at the same time)."""
    mounts = [arg for path in pip_host_paths() for arg in ("-v", f"{path}:{path}:ro")]
    with tempfile.TemporaryDirectory(prefix="hubsense-build-") as tmp:
        iid = Path(tmp) / "iid"
        podman("build", "--network", "host", "--from", BASE_IMAGE, "--format", "docker", "--layers", *mounts,
               "--iidfile", str(iid), "-t", tag, str(context), timeout=1800)
        return iid.read_text().strip()


def ensure_image(context: Path, tag: str) -> tuple[str, dict[str, float]]:
    """The base (made once per machine, one builder at a time) and the image: its id, seconds each took."""
    require_podman()
    times = {}
    t0 = time.monotonic()
    with open(BASE_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not base_exists():
            build_base()
    times["base_s"] = time.monotonic() - t0
    t1 = time.monotonic()
    image = build_image(context, tag)
    times["build_s"] = time.monotonic() - t1
    return image, times
