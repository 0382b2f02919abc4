"""Code that runs inside the Rasa engine's process and environment (.venv-rasa, Python 3.10).

The bot never imports it. Custom NLU components live with the training data in nlu/components/.
"""
