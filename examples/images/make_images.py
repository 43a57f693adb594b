"""Write the small disk images the example catalog points at (committed; rerun to regenerate).

qcow2 files are valid, empty qcow2 v3 disks (header, refcount table and block, L1 table) whose
virtual size differs per image, so each has its own checksum; raw files are zeros after a text
label. Both pass Glance's format inspection and safety checks.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLUSTER_BITS = 16
CLUSTER = 1 << CLUSTER_BITS
GIB = 1 << 30


def qcow2(virtual_size: int) -> bytes:
    """An empty qcow2 v3 image: cluster 0 header, 1 refcount table, 2 refcount block, 3 L1."""
    l2_coverage = (CLUSTER // 8) * CLUSTER
    l1_size = -(-virtual_size // l2_coverage)
    header_fields = {  # name: (struct format, value), in on-disk order
        "magic": ("4s", b"QFI\xfb"),
        "version": ("I", 3),
        "backing_file_offset": ("Q", 0),
        "backing_file_size": ("I", 0),
        "cluster_bits": ("I", CLUSTER_BITS),
        "size": ("Q", virtual_size),
        "crypt_method": ("I", 0),
        "l1_size": ("I", l1_size),
        "l1_table_offset": ("Q", 3 * CLUSTER),
        "refcount_table_offset": ("Q", 1 * CLUSTER),
        "refcount_table_clusters": ("I", 1),
        "nb_snapshots": ("I", 0),
        "snapshots_offset": ("Q", 0),
        "incompatible_features": ("Q", 0),
        "compatible_features": ("Q", 0),
        "autoclear_features": ("Q", 0),
        "refcount_order": ("I", 4),
        "header_length": ("I", 104),
    }
    header = struct.pack(
        ">" + "".join(fmt for fmt, _ in header_fields.values()),
        *(value for _, value in header_fields.values()),
    )
    image = bytearray(4 * CLUSTER)
    image[: len(header)] = header
    image[CLUSTER : CLUSTER + 8] = struct.pack(">Q", 2 * CLUSTER)
    for cluster in range(4):
        offset = 2 * CLUSTER + 2 * cluster
        image[offset : offset + 2] = struct.pack(">H", 1)
    return bytes(image)


def raw(label: str, size: int) -> bytes:
    return label.encode().ljust(size, b"\0")


IMAGES = {
    "ubuntu-24.04.qcow2": qcow2(int(3.5 * GIB)),
    "ubuntu-22.04.qcow2": qcow2(int(2.2 * GIB)),
    "ubuntu-20.04.qcow2": qcow2(int(2.1 * GIB)),
    "debian-12.qcow2": qcow2(2 * GIB),
    "debian-11.qcow2": qcow2(2 * GIB + CLUSTER),
    "rocky-9.qcow2": qcow2(10 * GIB),
    "rocky-8.qcow2": qcow2(10 * GIB + CLUSTER),
    "almalinux-9.qcow2": qcow2(10 * GIB + 2 * CLUSTER),
    "centos-stream-9.qcow2": qcow2(10 * GIB + 3 * CLUSTER),
    "fedora-40.qcow2": qcow2(5 * GIB),
    "cirros-0.6.2.qcow2": qcow2(112 * (1 << 20)),
    "flatcar-stable.qcow2": qcow2(int(8.5 * GIB)),
    "talos-1.7-metal.raw": raw("talos 1.7 metal amd64 (example data)", 256 * 1024),
}


def main() -> None:
    for name, data in IMAGES.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: sha256:{hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
