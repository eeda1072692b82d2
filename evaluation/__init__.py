"""Evaluation of synthesized images: everything evaluate.py runs (it keeps only the command line).

- run.py            load the protocol's networks, score a results folder, write metrics.json
- results.py        the folder test.py writes: stems, images, label ids, the generator's LBP codes
- scoring.py        metrics accumulated batch by batch: FID features, confusion matrix, texture, LBP distances
- fid.py            Inception features, Fréchet distance (FID), kernel inception distance (KID)
- inception.py      the FID Inception-v3 (pytorch-fid's port of TensorFlow's graph), pool3 features
- segmentation.py   label space per dataset (Cityscapes id -> train id), confusion matrix, the mIoU rules
- dataset_labels.py the dataset's full-resolution label files, for --seg_size original
- texture.py        the texture metric: per-class LBP histograms, Jensen-Shannon divergence, references
- lbp_distance.py   pixel-aligned mean |LBP(synthesized) - LBP(real)| / 255 (not a texture metric)
- protocol.py       the protocol line stored and printed beside the numbers
- table.py          the markdown table row (evaluate.py) and table (scripts/common.sh)
- segmenters/       the published segmenters SPADE scored with (DRN-D-105 for Cityscapes,
                    UperNet-101 for ADE20K, DeepLab v2 for COCO-Stuff) and a small U-Net for
                    demo/custom data (scripts/train_segmenter.py trains it), behind build_segmenter
"""
