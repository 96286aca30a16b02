"""Qt views fed with numpy arrays and plain values. They never import torch or the engine,
so each can be shown and tested alone (`python -m widgets.head_grid` runs a demo)."""
