"""Analyses on captured activations: pure functions of tensors, no model state."""
