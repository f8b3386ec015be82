"""Names that are the same objects in both backends (configuration, callbacks, helpers)."""

from fastnet.activations import GELU, Exp, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from fastnet.callbacks import CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau
from fastnet.gradcheck import gradcheck
from fastnet.losses import MSE, BinaryCrossEntropy, CrossEntropy
from fastnet.optimizers import SGD, Adam
from fastnet.training import Callback, History

__all__ = [
    "SGD",
    "Adam",
    "EarlyStopping",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "ModelCheckpoint",
    "CSVLogger",
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
