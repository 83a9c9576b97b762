"""The 20 tutorials: where each comes from and the edits it needs (data stand-ins, shrink).

``edits`` are applied on every run, ``shrink`` only when ``$UNAFRAID_TUTORIAL_SHRINK`` is set
(CI's time budget). Each edit is ``(old, new, why)``: ``old`` must occur exactly once.
An edit with a 4th element ``EVERY`` replaces every occurrence (at least one must exist).
``metric`` is ``(regex, minimum)``: the last number the regex finds in the output must reach the
minimum (set below the shrunk runs' numbers and TensorFlow's, see docs/from_tensorflow.md).
``reference`` is ``(low, high, runs)``: the lowest and highest value of that metric in ``runs``
runs of the same shrunk script on TensorFlow 2.21 (Keras 3), from ``tests/tutorials/tf_reference.py``
(December 2026); the runner reports the metric in or out of that range (``run.reference_range``).
A tutorial with a metric and no reference is one where TensorFlow stops before printing it:
``training_loop_from_scratch`` at the tf.keras 2 ``reset_states()``, and
``training_with_built_in_methods`` at ``add_metric``, which Keras 3 removed.
"""

from tests.tutorials.convert import EVERY

TF_DOCS = "tensorflow/docs"
TF_DOCS_COMMIT = "7c3650212740204359d4ceae481abc79345541be"
KERAS_IO = "keras-team/keras-io"
KERAS_IO_COMMIT = "4be4d9ff595fd2f03167a16445bd158cdd977190"


def tf_docs(name: str, path: str, **kw) -> dict:
    return {"name": name, "repo": TF_DOCS, "path": "site/en/" + path, "commit": TF_DOCS_COMMIT, **kw}


def keras_io(name: str, path: str, **kw) -> dict:
    return {"name": name, "repo": KERAS_IO, "path": path, "commit": KERAS_IO_COMMIT, **kw}


SHRUNK = "fewer epochs / steps for CI (UNAFRAID_TUTORIAL_SHRINK)"

TUTORIALS = [
    tf_docs("quickstart_beginner", "tutorials/quickstart/beginner.ipynb",
            metric=(r"accuracy: ([0-9.]+)\n", 0.85), reference=(0.8951, 0.9021, 6),
            loss=(r"\bloss: ([0-9.]+)", 0.3596, 0.3712, 3),
            shrink=[("model.fit(x_train, y_train, epochs=5)",
                     "model.fit(x_train[:6000], y_train[:6000], epochs=1)", SHRUNK)]),
    tf_docs("quickstart_advanced", "tutorials/quickstart/advanced.ipynb",
            metric=(r"Test Accuracy: ([0-9.]+)", 70.0), reference=(74.0, 83.4, 6),
            loss=(r"Test Loss: ([0-9.]+)", 0.51, 0.61, 3),
            shrink=[("EPOCHS = 5", "EPOCHS = 1", SHRUNK),
                    ("x_train, x_test = x_train / 255.0, x_test / 255.0",
                     "x_train, x_test, y_train, y_test = x_train[:1000] / 255.0, x_test[:500] / 255.0, "
                     "y_train[:1000], y_test[:500]", SHRUNK)]),
    tf_docs("custom_training_walkthrough", "tutorials/customization/custom_training_walkthrough.ipynb",
            metric=(r"Test set accuracy: ([0-9.]+)%", 50.0), reference=(16.667, 66.667, 9),
            loss=(r"Epoch 050: Loss: ([0-9.]+)", 0.781, 1.075, 6),
            edits=[("import tensorflow_datasets as tfds", "import tutorial_data as tfds",
                    "data stand-in: iris (4 features, 3 classes) for penguins")],
            shrink=[("num_epochs = 201", "num_epochs = 51", SHRUNK)]),
    tf_docs("basic_regression", "tutorials/keras/regression.ipynb",
            edits=[("url = 'http://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data'",
                    "url = __import__('tutorial_data').auto_mpg_file()",
                    "data stand-in: synthetic auto MPG table")]),
    tf_docs("basic_classification", "tutorials/keras/classification.ipynb",
            metric=(r"Test accuracy: ([0-9.]+)", 0.85), reference=(0.8960, 0.9044, 6),
            loss=(r"\bloss: ([0-9.]+)", 0.3469, 0.3605, 3),
            edits=[("fashion_mnist = tf.keras.datasets.fashion_mnist",
                    "fashion_mnist = tf.keras.datasets.mnist", "data stand-in: MNIST for Fashion-MNIST")],
            shrink=[("model.fit(train_images, train_labels, epochs=10)",
                     "model.fit(train_images[:6000], train_labels[:6000], epochs=1)", SHRUNK)]),
    tf_docs("load_numpy", "tutorials/load_data/numpy.ipynb",
            metric=(r"sparse_categorical_accuracy: ([0-9.]+)\n", 0.75), reference=(0.7803, 0.8518, 11),
            loss=(r"\bloss: ([0-9.]+)", 5.9275, 7.4123, 8),
            edits=[("path = tf.keras.utils.get_file('mnist.npz', DATA_URL)",
                    "path = __import__('tutorial_data').mnist_npz()", "data stand-in: local mnist.npz")],
            shrink=[("model.fit(train_dataset, epochs=10)", "model.fit(train_dataset.take(100), epochs=1)",
                     SHRUNK)]),
    tf_docs("autodiff_guide", "guide/autodiff.ipynb"),
    tf_docs("variable_guide", "guide/variable.ipynb"),
    tf_docs("custom_layers", "tutorials/customization/custom_layers.ipynb"),
    tf_docs("basic_training_loops", "guide/basic_training_loops.ipynb"),
    tf_docs("customization_basics", "tutorials/customization/basics.ipynb"),
    keras_io("training_loop_from_scratch", "guides/writing_a_training_loop_from_scratch.py",
             metric=(r"Validation acc: ([0-9.]+)", 0.55),
             shrink=[("train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)",
                      "train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size).take(30)",
                      SHRUNK, EVERY),  # some versions of the guide hold this line twice
                     ("        if step > 10:\n            break",
                      "        if step > 1:\n            break", SHRUNK)]),
    keras_io("customizing_fit", "guides/customizing_what_happens_in_fit.py",
             shrink=[("gan.fit(dataset.take(100), epochs=1)", "gan.fit(dataset.take(5), epochs=1)", SHRUNK)]),
    keras_io("sequential_model", "guides/sequential_model.py"),
    keras_io("functional_api", "guides/functional_api.py",
             metric=(r"Test accuracy: ([0-9.]+)", 0.75), reference=(0.7836, 0.8373, 6),
             loss=(r"Test loss: ([0-9.]+)", 0.7378, 0.7801, 3),
             edits=[("(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()",
                     "(x_train, y_train), (x_test, y_test) = __import__('tutorial_data')"
                     ".cifar10_load_data()", "data stand-in: synthetic CIFAR-10 (its shapes and dtypes)"),
                    ("vgg19 = tf.keras.applications.VGG19()",
                     "vgg19 = tf.keras.applications.VGG19(weights=None)",
                     "download stand-in: VGG19's architecture with fresh weights for ImageNet's")],
             shrink=[("history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)",
                      "history = model.fit(x_train[:3000], y_train[:3000], batch_size=64, epochs=1, "
                      "validation_split=0.2)", SHRUNK)]),
    keras_io("subclassing", "guides/making_new_layers_and_models_via_subclassing.py",
             shrink=[('x_train = x_train.reshape(60000, 784).astype("float32") / 255',
                      'x_train = x_train[:3000].reshape(3000, 784).astype("float32") / 255', SHRUNK)]),
    keras_io("training_with_built_in_methods", "guides/training_with_built_in_methods.py",
             metric=(r"sparse_categorical_accuracy[=:] ?([0-9.]+)", 0.6),
             shrink=[("x_train = x_train[:-10000]", "x_train = x_train[:-10000][:3000]", SHRUNK),
                     ("y_train = y_train[:-10000]", "y_train = y_train[:-10000][:3000]", SHRUNK)]),
    keras_io("serialization_and_saving", "guides/serialization_and_saving.py"),
    keras_io("antirectifier", "examples/keras_recipes/antirectifier.py",
             metric=(r"sparse_categorical_accuracy: ([0-9.]+)\n", 0.85), reference=(0.8867, 0.9494, 6),
             loss=(r"\bloss: ([0-9.]+)", 0.1620, 0.3823, 3),
             shrink=[("epochs = 20", "epochs = 1", SHRUNK)]),
    keras_io("own_callbacks", "guides/writing_your_own_callbacks.py"),
]
