"""audio-course helpers: the plumbing behind the notebooks, one module per step (notebook in brackets).

Each module imports only modules listed above it (``tests/test_layout.py``); importing ``helpers``
itself is cheap, so the Colab setup cell can use ``helpers.colab`` before anything is installed.

- ``paths``: the kit's folders, data-tier folders, ``.complete`` marker, audio suffixes (stdlib)
- ``audio``: reading a file or a window of it: mono, resampled, padded (01)
- ``features``: spectrogram and MFCC ``nn.Module``\\ s, pooled or not, one clip or a batch (02)
- ``augment``: waveform-batch augmentation: reverb, noise at an SNR, band-limit/EQ, speed (05, 07)
- ``corpus``: utterances, the manifest, ``speaker_to_index``, the seeded split, held-out speakers (03)
- ``cache``: ``FeatureCache``: features or waveforms decoded once into a memory map (03)
- ``dataset``: ``SpeakerDataset`` (crops), ``UtteranceCrops``, ``WholeUtterances``, ``make_loader`` (03)
- ``models``: dense, 1-D CNN and 2-D CNN speaker classifiers, ``count_parameters`` (04)
- ``checkpoints``: saving a model with what rebuilds it; loading it back (05–07)
- ``model_code``: your model classes of 04 pickled by value next to the checkpoints, for 05 (04, 05)
- ``training``: ``fit`` and ``evaluate`` (crop- and utterance-level accuracy), ``predict`` (05)
- ``embeddings``: the embedding model, embeddings of a dataset, the LDA back-end, PCA to 3-D (06)
- ``metrics``: classification (precision, recall, F1, confusion) and verification (EER) (05, 07)
- ``plots``: every figure: waveform, spectrogram, curves, confusion, ROC, 3-D embeddings
- ``enrol``: enrol your own voice: record in Colab's browser, embed a clip, verify another (07)
- ``synthetic``: a synthetic speaker corpus, so everything runs without the real data
- ``fetch``: one file, resumably, over HTTP or from Google Drive; ``DownloadError``
- ``download``: the data tiers: sources, a mirror, safe unpacking (``python data_download.py``)
- ``course``: what a notebook imports: data, device, seed, the recommended model, sets, tables
- ``colab``: the Colab setup cell's bootstrap (standard library only)
- ``checks``: the self-checks run after each exercise, one module per notebook
- ``cli``: the training command line: ``python -m helpers.cli.train``
"""

__version__ = "0.1.0"
