"""Run by tests/test_train.py under `torchrun`: train, then dump this rank's weights."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import train  # noqa: E402
from models import unwrap  # noqa: E402


def main():
    out, args = sys.argv[1], sys.argv[2:]
    models, prepare = [], train.prepare
    train.prepare = lambda model, opt: models.append(model) or prepare(model, opt)
    train.main(args)
    state = {f'{k}.{n}': v for k, net in models[0].networks().items() for n, v in unwrap(net).state_dict().items()}
    torch.save(state, os.path.join(out, f"rank{os.environ['RANK']}.pth"))


if __name__ == '__main__':
    main()
