"""Convnets the tests build the same way in unafraid and in Keras 3 (``layers``, ``Input`` and
``Sequential`` are passed in): Keras's "Simple MNIST convnet" and small models that use every
convolution, pooling, spatial reshaping and spatial dropout layer in 1, 2 and 3 dimensions."""

import numpy as np


def simple_mnist_convnet(layers, Input, Sequential):
    """keras.io/examples/vision/mnist_convnet, layer for layer."""
    return Sequential([
        Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def model_1d(layers, Input, Sequential):
    return Sequential([
        Input((20, 3)), layers.ZeroPadding1D((2, 1)),
        layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh"),
        layers.Conv1DTranspose(4, 3, strides=2), layers.SpatialDropout1D(0.3),
        layers.MaxPooling1D(2), layers.AveragePooling1D(3, strides=2, padding="same"),
        layers.UpSampling1D(3), layers.Cropping1D((1, 2)),
        layers.Conv1D(6, 2, strides=2, groups=2, padding="same"),
        layers.GlobalMaxPooling1D(keepdims=True), layers.GlobalAveragePooling1D(),
        layers.Dense(3, activation="softmax")])


def model_2d(layers, Input, Sequential):
    return Sequential([
        Input((12, 11, 3)), layers.ZeroPadding2D(((1, 0), (2, 1))),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
        layers.SeparableConv2D(5, (3, 2), depth_multiplier=2, activation="elu"),
        layers.SpatialDropout2D(0.2),
        layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1),
        layers.AveragePooling2D(2, padding="same"), layers.Cropping2D(((1, 2), (0, 1))),
        layers.UpSampling2D((2, 1)), layers.MaxPooling2D(3, strides=2, padding="same"),
        layers.Conv2D(6, 2, dilation_rate=2, groups=2, padding="same"),
        layers.GlobalMaxPooling2D(keepdims=True), layers.GlobalAveragePooling2D(),
        layers.Dense(3, activation="softmax")])


def model_3d(layers, Input, Sequential):
    return Sequential([
        Input((6, 6, 6, 2)), layers.ZeroPadding3D(1), layers.Conv3D(3, 3, padding="same"),
        layers.MaxPooling3D(2), layers.UpSampling3D((2, 1, 2)), layers.Cropping3D(1),
        layers.SpatialDropout3D(0.2), layers.AveragePooling3D(2),
        layers.GlobalMaxPooling3D(keepdims=True), layers.GlobalAveragePooling3D(),
        layers.Dense(3, activation="softmax")])


BUILDERS = {"1d": (model_1d, (20, 3)), "2d": (model_2d, (12, 11, 3)), "3d": (model_3d, (6, 6, 6, 2))}


def data(shape, n=24):
    rng = np.random.default_rng(5)
    return rng.normal(size=(n, *shape)).astype(np.float32), np.arange(n) % 3
