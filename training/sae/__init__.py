"""Training sparse autoencoders for any model Microtome opens (`python -m training.train_sae`)."""
