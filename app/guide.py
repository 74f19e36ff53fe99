"""The page's words for a first-time visitor: the tour's stops (each names the part of the
page it is about) and the glossary of the terms on screen. Rendered by
templates/partials/guide.html; static/js/guide.js walks the tour."""

from dataclasses import dataclass

TAGLINE = ("Watch a neural network learn: pick the data, shape the network, press Play, "
           "or follow one training step with every number shown.")


@dataclass(frozen=True)
class Stop:
    title: str
    text: str
    target: str  # CSS selector of the part of the page this stop is about


TOUR = (
    Stop("What nnplay is",
         "A small neural network trains here, in front of you. Every number on the page is "
         "the real one the server computed: weights, activations, gradients, losses.",
         ".nn-brand"),
    Stop("The data",
         "Pick a dataset. Each dot is a sample: a point (x1, x2) and its class, shown by its "
         "colour. Part of the samples train the network; the rest test it. The features are "
         "what the network is given of each point (x1, x2, and products or sines of them).",
         ".nn-left"),
    Stop("The network",
         "Columns are layers; each square is a neuron, and its picture is what it outputs "
         "across the whole plane. Lines are weights: blue positive, orange negative, thicker "
         "for larger. Click a line or a neuron to see its numbers and change them.",
         "#network-view"),
    Stop("Training",
         "Play trains the network. Each epoch goes through the training samples in batches; "
         "after each batch the optimizer moves every weight a little against its gradient, "
         "scaled by the learning rate. Step trains one epoch; the other settings change "
         "the network's shape and how it learns.",
         "#controls"),
    Stop("What it predicts",
         "The output plot colours the plane by the network's answer, with the data on top: "
         "watch the boundary form while it trains. The loss chart shows the training and "
         "test loss epoch by epoch, and the figures under it score the test samples.",
         ".nn-right"),
    Stop("One step, slowly",
         "Step one sample replays a single training step: forward through the layers "
         "(weighted sums, then activations), the loss, backward through the chain rule "
         "layer by layer, and the update of every weight. Each equation shows its numbers.",
         "#step-panel"),
)

GLOSSARY = (
    ("Sample", "One data point: its inputs (x1, x2) and its target (a class or a number)."),
    ("Feature", "An input the network is given: x1, x2, or a function of them such as x1²."),
    ("Neuron", "Computes a weighted sum of its inputs plus a bias, then applies its "
               "activation function."),
    ("Weight", "The number an input is multiplied by on its way into a neuron; one per line "
               "in the drawing."),
    ("Bias", "A number added to a neuron's weighted sum (the small dot beside each neuron)."),
    ("Activation function", "The curve a neuron applies to its weighted sum (tanh, relu, "
                            "sigmoid...): the picture beside each select shows it, and its "
                            "derivative dashed."),
    ("Hidden layer", "A layer between the inputs and the output."),
    ("Forward pass", "Computing every layer's outputs from the inputs, left to right."),
    ("Loss", "How far the prediction is from the target, as one number: lower is better."),
    ("Gradient", "How much the loss changes when a weight changes a little; its sign says "
                 "which way is downhill."),
    ("Backpropagation", "Computing every weight's gradient from the output back, layer by "
                        "layer, with the chain rule."),
    ("Learning rate", "How big a step the optimizer takes against the gradient."),
    ("Optimizer", "The rule that turns gradients into weight changes (sgd, momentum, adam...)."),
    ("Batch size", "How many training samples are averaged for one weight update."),
    ("Step", "One weight update (one batch)."),
    ("Epoch", "One pass over all the training samples."),
    ("Regularization", "A penalty on large weights added to the loss (L1 or L2), to keep the "
                       "network from fitting the noise."),
    ("Training and test data", "The network learns from the training samples; the test "
                               "samples, never trained on, show how well it generalizes."),
    ("Preprocessing", "Rescaling the inputs before they reach the network (minmax to a range, "
                      "or standardize to mean 0 and spread 1)."),
    ("Seed", "The number that fixes the random initial weights (Seed) or the random data "
             "(Data seed): the same seed gives the same start."),
    ("Decision boundary", "Where the network's answer changes from one class to another: the "
                          "edge between colours in the output plot."),
    ("Accuracy", "The share of test samples whose predicted class is right."),
    ("Precision, recall, F1", "For class 1: of the samples predicted 1, the share that are 1 "
                              "(precision); of the samples that are 1, the share found "
                              "(recall); F1 combines the two."),
    ("Confusion matrix", "Test samples counted by true class (rows) and predicted class "
                         "(columns); the diagonal is right."),
    ("Discretize", "Show the output plot as classes only, not as shades of confidence."),
)
