#!/usr/bin/env python3
"""Keeps one GPU architecture's machine code in a CUDA shared library and zeroes the rest.

    fatbin_keep_arch.py LIB ARCH OUT     e.g. libtorch_cuda.so 90 out/libtorch_cuda.so (Hopper: H100, H200)
    fatbin_keep_arch.py LIB              lists the entries of its .nv_fatbin section by kind and architecture

LibTorch's libtorch_cuda.so carries cubins for sm_75/80/90/100/120 (345 MB of its 504 MB). A GPU loads only its own
architecture's, so for a machine that cannot download the 458 MB natives jar and takes at most 64 MiB per transfer
(the workplace's device machine) the others are zeroed: the file keeps its size and layout (every offset and header
stays), and the zeros compress to nothing. The driver picks the entry whose architecture matches the GPU; the
zeroed ones are never read. Do not run the result on a GPU of another architecture.
"""
import collections
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50


def section(path):
    out = subprocess.check_output(['readelf', '-S', '-W', path]).decode()
    for line in out.splitlines():
        if '.nv_fatbin' in line:
            parts = line.split(']')[1].split()
            return int(parts[3], 16), int(parts[4], 16)
    raise SystemExit(f'{path}: no .nv_fatbin section')


def entries(data, off, size):
    """Yields (payload offset, payload size, kind, arch) of every entry of every container in the section."""
    pos, end = off, off + size
    while pos + 16 <= end:
        magic, _, hsize, fsize = struct.unpack_from('<IHHQ', data, pos)
        if magic != FATBIN_MAGIC:
            pos += 8  # padding between containers
            continue
        e, cend = pos + hsize, pos + hsize + fsize
        while e < cend:
            kind, _, ehs, psize = struct.unpack_from('<HHIQ', data, e)
            arch = struct.unpack_from('<I', data, e + 28)[0]
            yield e + ehs, psize, {1: 'PTX', 2: 'ELF'}.get(kind, str(kind)), arch
            e += ehs + psize
        pos = cend


def main():
    path = sys.argv[1]
    off, size = section(path)
    data = bytearray(open(path, 'rb').read())
    count, size_by = collections.Counter(), collections.Counter()
    keep = int(sys.argv[2]) if len(sys.argv) > 2 else None
    zeroed = 0
    for start, psize, kind, arch in list(entries(data, off, size)):
        count[(kind, arch)] += 1
        size_by[(kind, arch)] += psize
        if keep is not None and arch != keep:
            data[start:start + psize] = bytes(psize)
            zeroed += psize
    for k in sorted(count):
        print(f'{k[0]} sm_{k[1]}: {count[k]} entries, {size_by[k] / 1e6:.0f} MB')
    if keep is not None:
        if count and not any(a == keep for (_, a) in count):
            raise SystemExit(f'{path}: no sm_{keep} entries; refusing to zero everything')
        open(sys.argv[3], 'wb').write(data)
        print(f'zeroed {zeroed / 1e6:.0f} MB, kept sm_{keep}')


if __name__ == '__main__':
    main()
