"""Keras-compatible layers (``tf.keras.layers``)."""

from __future__ import annotations

from .. import registry
from .activation import ELU, LeakyReLU, PReLU, ReLU
from .adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from .base import Input, InputLayer, KerasTensor, Layer, MaskOf
from .categorical import CategoryEncoding, Discretization, IntegerLookup, StringLookup
from .conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from .core import Activation, Dense, Dropout, Flatten, Reshape, Softmax
from .einsum_dense import EinsumDense
from .embedding import Embedding, ReversibleEmbedding
from .lambda_layer import Lambda
from .masking import Masking
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .noise import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization
from .norms import GroupNormalization, Identity, RMSNormalization, UnitNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import Normalization
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .regularization import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from .serialization import deserialize, serialize
from .symbolic import OpLayer  # also gives KerasTensor its operators (x + 1, -x, x[:, 0])
from .wrapper import SpectralNormalization, Wrapper

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Activation", "Dense", "Dropout",
           "Flatten", "Reshape", "Softmax", "BatchNormalization", "LayerNormalization",
           # convolution, pooling, spatial reshaping and dropout (channels last)
           "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv2D",
           "SeparableConv2D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalMaxPooling3D", "UpSampling1D", "UpSampling2D",
           "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D",
           "Cropping2D", "Cropping3D", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
           "LeakyReLU", "Normalization", "ReLU", "PReLU", "ELU",
           # merging, masking, noise, embedding, tabular preprocessing (issue 17)
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot",
           "Masking", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
           "Embedding", "ReversibleEmbedding", "RepeatVector", "Permute", "Discretization",
           "CategoryEncoding",
           "IntegerLookup", "StringLookup", "Lambda", "OpLayer", "serialize", "deserialize",
           "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "Identity",
           "RMSNormalization", "UnitNormalization", "GroupNormalization", "Conv3DTranspose",
           "DepthwiseConv1D", "SeparableConv1D",
           # recurrent layers (issue 16)
           "SimpleRNN", "LSTM", "GRU", "Bidirectional",
           # wrappers (Keras's test cases, issue 17)
           "Wrapper", "SpectralNormalization", "EinsumDense"]
# functions, and Lambda (a file never holds code, so no file may name it), are not saved layers
_NOT_SAVED = {"Input", "KerasTensor", "Lambda", "OpLayer", "add", "subtract", "multiply", "average",
              "maximum", "minimum", "concatenate", "dot", "serialize", "deserialize",
              "Wrapper"}  # Wrapper: an abstract base (no call), like Layer
# Keras's aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D

BUILTIN_LAYERS = {name: globals()[name] for name in __all__ if name not in _NOT_SAVED}

# The classes a saved model file may name (``Layer`` itself is abstract); unafraid.models adds
# Sequential and Functional. unafraid.io builds layers only from this table.
registry.names("layer", advice="unafraid loads only its built-in layers and models; for a custom "
               "layer, re-create the model in code and use load_weights.").register_each(
    cls for name, cls in BUILTIN_LAYERS.items() if name != "Layer")
registry.names("layer").register(OpLayer)  # unafraid's files only: saved as an op name and data
registry.names("layer").register(MaskOf)  # a symbolic mask (backend.get_keras_mask of a KerasTensor)

def __getattr__(name: str) -> None:
    """Only for names that do not exist: say what unafraid has instead (see unsupported.py)."""
    from ..unsupported import KERAS_LAYERS, missing_name_error
    raise missing_name_error("unafraid.keras.layers", name, __all__, KERAS_LAYERS)
