"""What the demo model's card (resources/demo_model/README.md) says its heads do, in one
place for the tests that check it. Retraining the demo model updates the card and this file;
every name here is measured by training/evaluate_demo_model.py and checked by a test."""

PREVIOUS_TOKEN_HEAD = "L0.H3"  # previous-token score 0.99; its ablation breaks copying
INDUCTION_HEADS = ("L1.H0", "L1.H1")  # induction scores 0.97 and 0.98 (no other head above 0.04)
DUPLICATE_TOKEN_HEAD = "L1.H2"  # duplicate-token score 0.88; ablating it also breaks IOI
IOI_HEAD = "L0.H0"  # patching its output from the name-swapped prompt moves the answer most (0.50; L0.H5 0.42)
IOI_HEADS = ("L0.H0", "L0.H5")  # together they carry the patched answer (0.92); ablating L0.H5 alone flips it

# the shipped demo SAE (resources/demo_saes/L0.resid_post, its README card); retraining it updates these
THE_FEATURE = 916  # fires on 'the' (precision 0.93, recall 0.90); its card's contexts all hold 'the'
CLAMPED_FEATURE = 1245  # clamped to 30 on the IOI prompt: logit difference 18.0 -> 0.6
