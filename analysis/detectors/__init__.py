"""Detectors: each module (or family package) holds detectors that implement
``analysis.model.Detector`` / ``WindowDetector``; ``analysis.registry`` lists the instances."""
