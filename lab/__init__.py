"""The mock darknet: world generator, mock sites and the private Tor network.

The lab knows nothing about the crawler; what the crawler may learn of it goes
through the lab's exports (``lab.json`` state and ``truth.json`` ground truth).
"""
