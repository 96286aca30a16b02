"""What the demo model's card (resources/demo_model/README.md) says its heads do, in one
place for the tests that check it. Retraining the demo model updates the card and this file;
every name here is measured by training/evaluate_demo_model.py and checked by a test."""

PREVIOUS_TOKEN_HEAD = "L0.H5"  # previous-token score 0.83; its ablation breaks copying
INDUCTION_HEADS = ("L1.H0", "L1.H2", "L1.H3")  # induction score > 0.8 (L1.H7, 0.61, is a weaker fourth)
DUPLICATE_TOKEN_HEAD = "L1.H5"  # duplicate-token score 0.80
IOI_HEAD = "L0.H1"  # patching its output from the name-swapped prompt moves the answer most (IOI)

# the shipped demo SAE (resources/demo_saes/L0.resid_post, its README card); retraining it updates these
THE_FEATURE = 1199  # fires on 'the' (precision 0.95, recall 0.83); its card's contexts all hold 'the'
CLAMPED_FEATURE = 1182  # clamped to 30 at the IOI prompt it moves the logit difference by more than 1
