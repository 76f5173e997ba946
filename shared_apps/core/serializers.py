"""Serializer building blocks several apps use."""

import copy

from rest_framework import serializers


class BuiltOnceModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields are worked out from the model once per class, not once per instance.

    DRF rebuilds a ModelSerializer's fields from the model's metadata each time one is made: on an endpoint
    that answers one object (a booking just made) that is a millisecond of every request. The fields depend on
    the class's ``Meta`` and declared fields only, so the first build is kept and each instance gets its own
    deep copy (as DRF gives each instance copies of the declared fields)."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)
