"""Seed 002's plain NumPy network, copied faithfully from the blog post this project grew from.

It is the baseline users compare with, quirks included: the MSE gradient omits
``1/(m·k)`` for the weights (the biases use the batch mean), the output
activation's derivative is applied to the already activated output, ReLU works
in place on ``z`` and the last partial batch is dropped. Everything below this
docstring is the post's code, unchanged and unoptimised.
"""

import numpy as np


class ReLU:
    """Rectified Linear Unit (ReLU) activation function."""

    @staticmethod
    def activation(z):
        z[z < 0] = 0
        return z

    @staticmethod
    def gradient(z):
        z[z < 0] = 0
        z[z > 0] = 1
        return z


class Sigmoid:
    """Sigmoid activation function."""

    @staticmethod
    def activation(z):
        return 1 / (1 + np.exp(-z))

    @staticmethod
    def gradient(z):
        s = Sigmoid.activation(z)
        return s * (1 - s)


class Identity:
    """Identity activation function."""

    @staticmethod
    def activation(z):
        return z

    @staticmethod
    def gradient(z):
        return np.ones_like(z)


class MSE:
    """Mean Squared Error (MSE) loss function."""

    @staticmethod
    def loss(y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2)

    @staticmethod
    def gradient(y_true, y_pred):
        return 2 * (y_pred - y_true)


class SGD:
    """Stochastic Gradient Descent (SGD)."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def step(self, weights, gradients):
        weights -= self.learning_rate * gradients


class NN:
    """

    Parameters:
        dimensions (tuples of ints of length n_layers)

    """

    def __init__(self, dimensions, activations, loss, optimizer):
        self.n_layers = len(dimensions)
        self.loss = loss
        self.optimizer = optimizer

        # Weights and biases are initiated by index. For a one hidden layer net you will have a w[1] and w[2]
        self.w = {}
        self.b = {}

        # Activations are also initiated by index. For the example we will have activations[2] and activations[3]
        self.activations = {}
        for i in range(len(dimensions) - 1):
            self.w[i + 1] = np.random.randn(dimensions[i], dimensions[i + 1]) / np.sqrt(dimensions[i])
            self.b[i + 1] = np.zeros(dimensions[i + 1])
            self.activations[i + 2] = activations[i]

    def _feed_forward(self, X):
        """Executes a forward pass through the neural network.

        This will return the state at each layer of the network, which includes the output of the
        network.

        Parameters:
            X (array of shape (batch_size, n_features))

        """

        # z = w(x) + b
        z = {}

        # a = f(z)
        a = {1: X}  # First layer has no activations as input

        for i in range(2, self.n_layers + 1):
            z[i] = np.dot(a[i - 1], self.w[i - 1]) + self.b[i - 1]
            a[i] = self.activations[i].activation(z[i])

        return z, a

    def _backprop(self, z, a, y_true):
        """Backpropagation.

        Parameters:
            z (dict of length n_layers - 1):

                z = {
                    2: w1 * x + b1
                    3: w2 * (w1 * x + b1) + b2
                    4: w3 * (w2 * (w1 * x + b1) + b2) + b3
                    ...
                }

            a (dict of length n_layers):

                a = {
                    1: x,
                    2: f(w1 * x + b1)
                    3: f(w2 * (w1 * x + b1) + b2)
                    4: f(w3 * (w2 * (w1 * x + b1) + b2) + b3)
                    ...
                }

            y_true (array of shape (batch_size, n_targets))

        """

        # Determine the partial derivative and delta for the output layer
        y_pred = a[self.n_layers]
        final_activation = self.activations[self.n_layers]
        delta = self.loss.gradient(y_true, y_pred) * final_activation.gradient(y_pred)
        dw = np.dot(a[self.n_layers - 1].T, delta)

        update_params = {
            self.n_layers - 1: (dw, delta)
        }

        # Go through the layers in reverse order
        for i in range(self.n_layers - 2, 0, -1):
            delta = np.dot(delta, self.w[i + 1].T) * self.activations[i + 1].gradient(z[i + 1])
            dw = np.dot(a[i].T, delta)
            update_params[i] = (dw, delta)

        # Update the parameters
        for k, (dw, delta) in update_params.items():
            self.optimizer.step(weights=self.w[k], gradients=dw)
            self.optimizer.step(weights=self.b[k], gradients=np.mean(delta, axis=0))

    def fit(self, X, y, epochs, batch_size, print_every=np.inf):
        """Trains the neural network.

        Parameters:
            X (array of shape (n_samples, n_features))
            y (array of shape (n_samples, n_targets))
            epochs (int)
            batch_size (int)

        """

        # As a convention we expect y to be 2D, even if there is only one target to predict
        if y.ndim == 1:
            y = np.expand_dims(y, axis=1)

        # Go through the epochs
        for i in range(epochs):

            # Shuffle the data
            idx = np.arange(X.shape[0])
            np.random.shuffle(idx)
            x_ = X[idx]
            y_ = y[idx]

            # Iterate over the training data in mini-batches
            for j in range(X.shape[0] // batch_size):
                start = j * batch_size
                stop = (j + 1) * batch_size
                z, a = self._feed_forward(x_[start:stop])
                self._backprop(z, a, y_[start:stop])

            # Display the performance every print_every eooch
            if (i + 1) % print_every == 0:
                y_pred = self.predict(X)
                print(f'[{i+1}] train loss: {self.loss.loss(y, y_pred)}')

    def predict(self, X):
        """Predicts an output for each sample in X.

        Parameters:
            X (array of shape (n_samples, n_features))

        """
        _, a = self._feed_forward(X)
        return a[self.n_layers]
