# pcapio.py - classic pcap files (Ethernet) as lists of frame bytes, written and read exactly:
# hostile frames must survive byte for byte, which a dissect-and-rebuild round trip does not.
import struct

_MAGIC_US, _MAGIC_NS = 0xa1b2c3d4, 0xa1b23c4d
LINKTYPE_ETHERNET = 1


def write(path, frames):
    """Writes frames (bytes) to path, microsecond timestamps counting up from 0."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", _MAGIC_US, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for i, b in enumerate(frames):
            f.write(struct.pack("<IIII", 0, i, len(b), len(b)))
            f.write(b)


def read(path):
    """Returns the frames of a pcap file (either byte order, usec or nsec timestamps)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap file" % path)
    for endian in "<>":
        magic, = struct.unpack(endian + "I", data[:4])
        if magic in (_MAGIC_US, _MAGIC_NS):
            break
    else:
        raise ValueError("%s: not a pcap file" % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frames.append(data[off:off + caplen])
        off += caplen
    return frames
