"""Inception-v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture
for Computer Vision") in Keras 3."""
