"""``python -m gaitcnn.authentication``: see :mod:`gaitcnn.authentication`."""

from gaitcnn.authentication._cli import authenticate_command

if __name__ == "__main__":
    authenticate_command()
