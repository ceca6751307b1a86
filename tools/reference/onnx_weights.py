"""Reading a generated model's weights back out of its ONNX files, shared by the reference scripts."""
import hashlib

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def initializers(path):
    """name -> numpy array for every initializer of an ONNX file (its external data included)."""
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def weights_checksum(tensors):
    """sha256 over sorted names: name, NUL, little-endian float32 bytes (the TS tests compute the same)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode() + b"\0")
        digest.update(np.ascontiguousarray(tensors[name], dtype="<f4").tobytes())
    return digest.hexdigest()


def to_torch(tensors):
    return {name: torch.from_numpy(np.array(value, dtype=np.float32)) for name, value in tensors.items()}
