#!/usr/bin/python3
"""Writes the binary seed inputs of idx_fuzzer and csv_fuzzer into corpus/.

The input layout is the fuzzer's (see idx_fuzzer.cc, csv_fuzzer.cc). Run once;
the files are committed. Text seeds (YAML, metric lines, placeholders) are
plain files in corpus/, and the proto seeds are textprotos in seeds/, encoded
at build time.
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    with open(os.path.join(HERE, "corpus", target, name), "wb") as f:
        f.write(data)


def idx_input(num_classes, images, labels):
    return bytes([num_classes]) + struct.pack("<H", len(images)) + images + labels


def idx_files(count, rows, cols, classes):
    images = struct.pack(">IIII", 0x803, count, rows, cols) + bytes(
        (i * 37) % 256 for i in range(count * rows * cols))
    labels = struct.pack(">II", 0x801, count) + bytes(i % classes for i in range(count))
    return images, labels


images, labels = idx_files(4, 3, 2, 3)
write("idx", "raw", idx_input(0, images, labels))
write("idx", "raw_classes", idx_input(5, images, labels))
write("idx", "gzip", idx_input(0, gzip.compress(images, mtime=0),
                               gzip.compress(labels, mtime=0)))
write("idx", "mismatch", idx_input(0, *idx_files(2, 2, 2, 2)[:1], labels))

write("csv", "header_label", bytes([0b1111 | 0x30]) + b"a,b,label\n1,2,0\n3.5,-1e3,1\n\n4,5,2\n")
write("csv", "index0", bytes([0b0000]) + b"0,0.5,0.25\n1,1,1\n")
write("csv", "index2", bytes([0b0100]) + b"1,2,1\n3,4,0\n")
