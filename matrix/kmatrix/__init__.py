"""The kernel matrix: modules run.py is made of."""
