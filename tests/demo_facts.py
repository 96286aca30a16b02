"""What the demo model's card (resources/demo_model/README.md) says its heads do, in one
place for the tests that check it. Retraining the demo model updates the card and this file;
every name here is measured by training/evaluate_demo_model.py and checked by a test."""

PREVIOUS_TOKEN_HEAD = "L0.H5"  # previous-token score 0.83; its ablation breaks copying
INDUCTION_HEADS = ("L1.H0", "L1.H2", "L1.H3")  # induction score > 0.8 (L1.H7, 0.61, is a weaker fourth)
DUPLICATE_TOKEN_HEAD = "L1.H5"  # duplicate-token score 0.80
IOI_HEAD = "L0.H1"  # patching its output from the name-swapped prompt moves the answer most (IOI)
