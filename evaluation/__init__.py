"""Evaluation of synthesized images (run by evaluate.py on the folder test.py writes).

- inception.py      the FID Inception-v3 (pytorch-fid's port of TensorFlow's graph), pool3 features
- fid.py            feature extraction, Fréchet distance (FID) and kernel inception distance (KID)
- segmentation.py   confusion matrix, mIoU, pixel accuracy, Cityscapes label id -> train id
- segmenters/       the published segmenters SPADE scored with (DRN-D-105 for Cityscapes,
                    UperNet-101 for ADE20K, DeepLab v2 for COCO-Stuff) and a small U-Net for
                    demo/custom data, behind build_segmenter(...).predict(images in [-1, 1])
"""
