"""Names that are the same objects in both backends (configuration, callbacks, helpers)."""

from fastnet.activations import GELU, Exp, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from fastnet.gradcheck import gradcheck
from fastnet.losses import MSE, BinaryCrossEntropy, CrossEntropy
from fastnet.optimizers import SGD, Adam
from fastnet.training import Callback, EarlyStopping, History

__all__ = [
    "SGD",
    "Adam",
    "EarlyStopping",
    "Callback",
    "History",
    "gradcheck",
    "Identity",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Softmax",
    "Exp",
    "GELU",
    "MSE",
    "CrossEntropy",
    "BinaryCrossEntropy",
]
