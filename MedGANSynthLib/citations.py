"""The papers MedGANSynth implements, in one place: the Slicer module's help shows them, tests check them.

Bibliographic details are those of the project README's "Citing" section. A DOI is given only where it was
checked (the brain-PET paper, Brain Informatics); the seed texts of the other papers carry no DOI, and none is
guessed: those entries are full citations without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Citation:
    authors: str
    title: str
    venue: str
    doi: str | None = None

    def html(self) -> str:
        parts = [f"{escape(self.authors)}.", f"<i>{escape(self.title)}</i>", escape(self.venue)]
        if self.doi:
            parts.append(f'<a href="https://doi.org/{escape(self.doi)}">doi:{escape(self.doi)}</a>')
        return " ".join(part for part in parts if part)


SOURCE_PAPERS = (
    Citation("A. Amyar, S. Ruan, P. Vera, P. Decazes, R. Modzelewski",
             "RadioGAN: Deep Convolutional Conditional Generative Adversarial Network to Generate PET Images.", ""),
    Citation("J. Islam, Y. Zhang", "GAN-based synthetic brain PET image generation.", "Brain Informatics 7, 3 (2020).",
             "10.1186/s40708-020-00104-2"),
    Citation("A. Ben-Cohen, E. Klang, S. P. Raskin, M. M. Amitai, H. Greenspan",
             "Virtual PET Images from CT Data Using Deep Convolutional Networks: Initial Results.",
             "SASHIMI workshop, MICCAI 2017."),
    Citation("J. M. Wolterink, A. Mukhopadhyay, T. Leiner, T. J. Vogl, A. M. Bucher, I. I\u0161gum",
             "Generative Adversarial Networks: A Primer for Radiologists.", "RadioGraphics 41(3) (2021)."),
    Citation("U. Javaid, J. A. Lee",
             "Capturing Variabilities from Computed Tomography Images with Generative Adversarial Networks.",
             "arXiv:1805.11504 (2018)."),
)


def citations_html() -> str:
    """The source papers as an HTML list (Slicer's help panel renders HTML and opens links)."""
    return "<ul>" + "".join(f"<li>{paper.html()}</li>" for paper in SOURCE_PAPERS) + "</ul>"
