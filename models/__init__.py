"""The model: Pix2PixModel (models/pix2pix_model.py) over the networks of models/networks/."""
