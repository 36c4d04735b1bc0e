"""Parameter nodes saved with older parameter names: moved to the current names when the scene is opened."""

from __future__ import annotations

import logging
import typing


def move_flat_parameters(parameter_node, grouped_names) -> list[str]:
    """Move each parameter saved under its plain name ("weightKg") to its grouped name ("suv.weightKg").

    The plain name is the part after the last dot, so plain names must be unique among ``grouped_names``. Values
    and node references (how Slicer's parameterNodeWrapper saves node parameters) are moved as stored, unparsed.
    A plain name can only come from a scene saved before the grouping, loaded or imported after the grouped values
    were made, so it replaces the grouped value. Returns the grouped names that were set.
    """
    moved = []
    for grouped in grouped_names:
        plain = grouped.rsplit(".", 1)[-1]
        if plain == grouped or not parameter_node.HasParameter(plain):
            continue
        parameter_node.SetParameter(grouped, parameter_node.GetParameter(plain))
        reference = parameter_node.GetNodeReferenceID(plain)
        if reference or parameter_node.GetNodeReferenceID(grouped):
            parameter_node.SetNodeReferenceID(grouped, reference)
        parameter_node.UnsetParameter(plain)
        parameter_node.RemoveNodeReferenceIDs(plain)
        moved.append(grouped)
    return moved


def grouped_parameter_names(wrapper_class) -> list[str]:
    """Every parameter of a parameterNodeWrapper class made of parameterPacks, as "section.name"."""
    names = []
    for section, info in wrapper_class.allParameters.items():
        pack = typing.get_args(info.unalteredType)[0] if _is_annotated(info.unalteredType) else info.unalteredType
        names += [f"{section}.{name}" for name in pack.allParameters]
    return names


def fill_missing_parameters(parameter_node, wrapper_class) -> list[str]:
    """Write the default of every grouped parameter the node lacks (one added after the scene was saved).

    Slicer's wrapper writes defaults only for a whole parameterPack that is absent (it checks the pack's first
    field), so a field added to an existing section would read as empty text and fail its validation.
    Returns the grouped names that were filled."""
    filled = []
    for section, info in wrapper_class.allParameters.items():
        pack = typing.get_args(info.unalteredType)[0] if _is_annotated(info.unalteredType) else info.unalteredType
        for name, field in pack.allParameters.items():
            grouped = f"{section}.{name}"
            if not field.serializer.isIn(parameter_node, grouped):
                field.serializer.write(parameter_node, grouped, field.default)  # a pack stores the value itself
                filled.append(grouped)
    return filled


def offered_choices(wrapper_class) -> dict[str, list]:
    """"section.name" -> its choices, for the parameters annotated with a ``Choice`` (anything with ``choices``)."""
    choices = {}
    for name in grouped_parameter_names(wrapper_class):
        for annotation in typing.get_args(wrapper_class.dataType(name))[1:]:
            if hasattr(annotation, "choices"):
                choices[name] = list(annotation.choices)
    return choices


def replace_values_not_offered(parameter_node, choices: dict[str, list]) -> list[str]:
    """A stored value that is not among its parameter's ``choices`` (a model id of another catalogue) becomes the
    first choice, with a warning; works on the stored text, before a wrapper reads (and validates) it.
    Returns the names replaced."""
    replaced = []
    for name, offered in choices.items():
        if parameter_node.HasParameter(name) and parameter_node.GetParameter(name) not in offered:
            logging.warning(f"MedGANSynth: the scene's {name} '{parameter_node.GetParameter(name)}' is not offered "
                            f"by the installed models; using '{offered[0]}' instead.")
            parameter_node.SetParameter(name, offered[0])
            replaced.append(name)
    return replaced


def _is_annotated(datatype) -> bool:
    return typing.get_origin(datatype) is typing.Annotated
