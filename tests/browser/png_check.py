#!/usr/bin/env python3
"""Check that a screenshot of the report is not blank: decode the PNG with the standard
library only (zlib, struct) and count non-white pixels in horizontal bands.

usage: png_check.py SCREENSHOT.png [--bands N] [--min-ink FRACTION] [--min-bands K]

Exit status 0 when at least K of the N bands (default 6 of 8 over the page height above
the last drawn row) hold at least FRACTION (default 0.002) non-white pixels, and the
page shows colour (the charts' series) as well as grey.
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if ftype == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xFF
        elif ftype == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 0xFF
        elif ftype == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif ftype == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    opts = {"--bands": 8, "--min-ink": 0.002, "--min-bands": 6}
    for k in range(2, len(argv) - 1, 2):
        opts[argv[k]] = float(argv[k + 1])
    width, height, bpp, rows = read_png(path)
    # Ink: a pixel clearly darker than white; colour: a pixel whose channels differ a lot.
    ink_rows, colour_pixels = [], 0
    for row in rows:
        ink = 0
        for x in range(0, width * bpp, bpp * 2):  # every other pixel is plenty
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r + g + b < 690:
                ink += 1
                if max(r, g, b) - min(r, g, b) > 60:
                    colour_pixels += 1
        ink_rows.append(ink / (width / 2))
    last = max((y for y, v in enumerate(ink_rows) if v > 0), default=-1)
    if last < 0:
        print(f"{path}: blank screenshot ({width}x{height})")
        return 1
    bands = int(opts["--bands"])
    size = max(1, (last + 1) // bands)
    filled = 0
    report = []
    for b in range(bands):
        part = ink_rows[b * size:(b + 1) * size] or [0.0]
        frac = sum(part) / len(part)
        report.append(f"{frac:.4f}")
        if frac >= opts["--min-ink"]:
            filled += 1
    print(f"{path}: {width}x{height}, content to row {last}, ink per band {' '.join(report)}, "
          f"{filled}/{bands} bands drawn, {colour_pixels} coloured pixels sampled")
    if filled < opts["--min-bands"]:
        print("too few bands hold content: the page did not render", file=sys.stderr)
        return 1
    if colour_pixels < 200:
        print("no coloured pixels: the charts did not render", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
