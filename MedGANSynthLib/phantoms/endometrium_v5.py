"""Version 5: a woman's menstrual state and the endometrium it gives (REFERENCE.md, "Version 5: values and endometrium").

* Menopause: at or after 51.3 y, the median age at natural menopause of the Massachusetts Women's Health Study
  (Maturitas 1992;14:103); before it, a regular cycle (every woman alike: the spread of the age at menopause, the
  perimenopause, hormones and contraceptives are not modelled †).
* The cycle's phase drawn with probabilities proportional to its length in days: menses 6 and a 17-day follicular
  phase whose last day is the estimated ovulation, then a 12-day luteal phase (medians of 3,324 cycles of 581
  women, Paediatr Perinat Epidemiol 2020, doi:10.1111/ppe.12644); the ovulatory phase taken as ovulation ± 1 day †
  (the SUV source's own day ranges were not read), so menstrual 6, proliferative 9, ovulatory 3, secretory 11 of
  29 days.
* Endometrial SUV: normal(mean, SD) of the phase or of postmenopausal women (J Nucl Med 2004;45:266), clipped to
  mean ± 2 SD with a floor at the postmenopausal mean - 2 SD, 0.7 (†: the menstrual mean - 2 SD is negative).
* Endometrial thickness (both layers, front to back): postmenopausal 2.0 ± 1.0 mm (transvaginal ultrasound,
  asymptomatic postmenopausal women), clipped to 1.0 † - 4.0 mm; at ovulation 10.0-15.9 mm (Acta Obstet Gynecol
  Scand 1994;73:790); menstrual 2-4, proliferative 5-11 and secretory 7-16 mm † (textbook ranges, no study read).

The state is drawn from its own stream of the case's seed, so it is the same in both contrast phases and leaves
every other draw of the case where it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

MENOPAUSE_MEDIAN_AGE = 51.3  # y, Massachusetts Women's Health Study (McKinlay, Maturitas 1992)
PHASE_DAYS = {"menstrual": 6, "proliferative": 9, "ovulatory": 3, "secretory": 11}  # of a 29-day cycle (see above)
# Endometrial SUV, mean and SD by phase / menopause ([Endometrium-FDG-2004])
ENDOMETRIUM_SUV = {"menstrual": (5.0, 3.2), "proliferative": (2.6, 1.1), "ovulatory": (3.7, 0.9),
                   "secretory": (2.5, 1.1), "postmenopausal": (1.7, 0.5)}
SUV_CLIP_SD = 2.0
SUV_FLOOR = 0.7  # the postmenopausal mean - 2 SD †
POSTMENOPAUSAL_THICKNESS_MM = (2.0, 1.0)  # mean, SD (transvaginal ultrasound, 1,182 women)
POSTMENOPAUSAL_THICKNESS_FLOOR_MM = 1.0  # † mean - 1 SD: mean - 2 SD would be no endometrium at all
PHASE_THICKNESS_MM = {"menstrual": (2.0, 4.0), "proliferative": (5.0, 11.0), "ovulatory": (10.0, 15.9),
                      "secretory": (7.0, 16.0)}  # uniform ranges; ovulatory sourced, the others †
STREAM_KEY = 5037  # spawn key of the state's stream under the case seed's sequence (version 5, label 37)


@dataclass(frozen=True)
class EndometriumState:
    status: str  # a phase of PHASE_DAYS or "postmenopausal"
    thickness_mm: float
    suv: float

    def to_manifest(self) -> dict:
        return asdict(self)


def is_postmenopausal(age_years: float) -> bool:
    """Menopause at the median age of natural menopause (every woman alike, see the module text)."""
    return age_years >= MENOPAUSE_MEDIAN_AGE


def draw_endometrium(rng: np.random.Generator, age_years: float) -> EndometriumState:
    """A woman's menstrual status (by age, then phase by its length), endometrial thickness and SUV."""
    phases = list(PHASE_DAYS)
    days = np.array([PHASE_DAYS[name] for name in phases], float)
    phase = phases[int(rng.choice(len(phases), p=days / days.sum()))]  # drawn at every age: the stream stays aligned
    status = "postmenopausal" if is_postmenopausal(age_years) else phase
    if status == "postmenopausal":
        mean, sd = POSTMENOPAUSAL_THICKNESS_MM
        thickness = float(np.clip(rng.normal(mean, sd), POSTMENOPAUSAL_THICKNESS_FLOOR_MM, mean + 2 * sd))
    else:
        thickness = float(rng.uniform(*PHASE_THICKNESS_MM[status]))
    mean, sd = ENDOMETRIUM_SUV[status]
    suv = float(np.clip(rng.normal(mean, sd), max(mean - SUV_CLIP_SD * sd, SUV_FLOOR), mean + SUV_CLIP_SD * sd))
    return EndometriumState(status, round(thickness, 2), round(suv, 4))
