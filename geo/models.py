"""Postcodes and where they are. A row is either a full postcode (imported from the ONS
Postcode Directory) or a whole postcode district ("BL9"), whose coordinates are its
approximate centre and stand in for postcodes that were not imported."""

from __future__ import annotations

from django.db import models


class Postcode(models.Model):
    postcode = models.CharField(
        max_length=8,
        unique=True,
        help_text='Normalised: upper case, one space ("BL9 0AA"), or a district ("BL9").',
    )
    district = models.CharField(max_length=4, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["postcode"]

    def __str__(self) -> str:
        return self.postcode

    @property
    def is_district(self) -> bool:
        return self.postcode == self.district
