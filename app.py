#!/usr/bin/env python3
"""CDK entry point: builds the stack; `python3 app.py` writes the templates to cdk.out/."""

import os

from infra.stack import build_app

build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out")).synth()
