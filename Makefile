# The two commands of the README. Both install what they need first.
PYTHON ?= python3
# A CPU-only machine: this exact torch takes the CPU wheel; with a GPU, any torch>=2.4 works.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install book test linkcheck

install:
	$(PYTHON) -m pip install --quiet "$(TORCH_SPEC)"
	$(PYTHON) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .

# The site needs only Jupyter Book: notebooks are not executed (their outputs are committed).
book:
	$(PYTHON) -m pip install --quiet "jupyter-book>=1.0.4.post1,<2" -c constraints.txt
	jupyter-book build . --quiet -n -W --keep-going
	@echo ""
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"

test: install
	$(PYTHON) -m pytest --nbval tests notebooks

# Needs a network: asks every external link of the built book whether it still answers
# (Sphinx's linkcheck builder; settings under sphinx.config in _config.yml). Report:
# _build/linkcheck/_build/html/output.txt (one line per link) and output.json; a broken
# link fails the target. Kept apart from the site in _build/html.
linkcheck:
	jupyter-book build . --builder linkcheck --path-output _build/linkcheck
	@echo "Link report: $(CURDIR)/_build/linkcheck/_build/html/output.txt"
