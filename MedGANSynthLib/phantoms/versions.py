"""Whole-body phantom generator versions: which exist, which is the default, which the bundled models need.

Kept free of numpy/scipy so the command line's ``--help`` can name them.
"""

PHANTOM_VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
DEFAULT_PHANTOM_VERSION = 5
"""Version 4 with the gaps its pictures showed closed (REFERENCE.md, "Version 5: ..." sections): one subject in both
contrast phases, an endometrium by menstrual phase or menopause, eight muscle groups at their published FDG uptake,
hepatic and portal veins, lung vessels to the pleura, curved iliac wings, fibroglandular breast tissue, unenhanced
blood from non-anaemic adults, bowel kept off bone: what new data sets should use. Frozen in session 26 (digests in
Testing/Python/fixtures/phantom_digests_v5.json). Versions 1-5 stay bit-for-bit: the models of issue 29 are trained
on versions 3 and 4 (their scripts name the version). Version 6 is version 5 with the unenhanced CT's noise measured
on the real PET/CT CTs in ../shared/data (:mod:`ct_noise_v6`); version 7 is version 6 with the lymph nodes moved
into the fat next to their stations (:mod:`nodes_in_fat_v7`); version 8 is version 7 with the perineum (ischioanal
fossae, natal cleft, thighs parted below it: :mod:`perineum_v8`) and the axillary fat pads (:mod:`axilla_v8`);
version 9 is version 8 with the external genitalia (scrotum, testes and penis, or the labia majora:
:mod:`genitalia_v9`) and the myometrium at its published uptake (:mod:`myometrium_v9`); version 10 is version 9 with
the aorta and the trachea at their published calibres by sex (:mod:`mediastinum_v10`). None of 6-10 is the default, since the bundled models and data sets are on version 5; versions 6 and 7 are frozen too
(Testing/Python/fixtures/phantom_digests_v6_v7.json)."""
REALISTIC_PHANTOM_VERSIONS = (2, 3, 4, 5, 6, 7, 8, 9, 10)
"""The versions on the skeleton-frame anatomy: contrast phase, arm position, count noise, whole-body chest slices."""
BUNDLED_MODELS_PHANTOM_VERSION = 1
"""The version the demo, the sample data and `dataset mip` use by default: the bundled CT GAN learned from
version 1's chest slices (RadioGAN from version 3 since session 33, the virtual PET from version 5); every check of
a bundled model's outputs passes it explicitly, so changing the default never changes what they show."""


def spoken_versions(versions: tuple[int, ...]) -> str:
    """"1, 2, 3 or 4": the versions as an error message or a help text names them."""
    return ", ".join(map(str, versions[:-1])) + f" or {versions[-1]}"
