"""audio-course helpers: the plumbing behind the notebooks, one module per step of the course.

==================  ==============================================================================
module              what it holds
==================  ==============================================================================
``course``          where the data is, the seed, the device, quick mode (``AUDIO_COURSE_QUICK=1``)
``audio``           reading a file or a window of it: mono, resampled, padded            (01)
``features``        spectrogram and MFCC modules, pooled or not, for one clip or a batch (02)
``data``            manifest, ``speaker_to_index``, seeded split, Dataset, cache, loader (03)
``models``          dense, 1-D CNN and 2-D CNN speaker classifiers, ``count_parameters`` (04)
``training``        ``fit`` and ``evaluate`` (crop- and utterance-level accuracy)       (05)
``metrics``         precision, recall, F1, confusion matrix (scikit-learn)               (05)
``embeddings``      embeddings, PCA, 3-D plot, cosine scoring, equal error rate          (06–07)
``plots``           waveform, spectrogram, curves, confusion matrix, ROC
``checks``          the self-checks run after each exercise
``synthetic``       a synthetic speaker corpus, so everything runs without the real data
``download``        fetching and unpacking the real dataset (``python data_download.py``)
``colab``           the Colab setup cell's bootstrap
``train``, ``bench``  command lines: ``python -m helpers.train``, ``python -m helpers.bench``
==================  ==============================================================================

Importing ``helpers`` itself is cheap (nothing heavy is imported here), so the Colab setup cell can
use ``helpers.colab`` before the dependencies are installed.
"""

__version__ = "0.1.0"
