# The two commands of the README. Both install what they need first.
PYTHON ?= python3
# A CPU-only machine: this exact torch takes the CPU wheel; with a GPU, any torch>=2.4 works.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install book test

install:
	$(PYTHON) -m pip install --quiet "$(TORCH_SPEC)"
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .

book: install
	jupyter-book build . --quiet -n -W --keep-going
	@echo ""
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"

test: install
	$(PYTHON) -m pytest --nbval tests notebooks
