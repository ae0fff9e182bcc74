"""The projectors the worker runs, in the order they see each event."""

from twinning.crm.projector import projector as crm_projector
from twinning.invitations.projector import projector as invitations_projector
from twinning.streams.projection import Projector
from twinning.trips.projector import projector as trips_projector
from twinning.visits.projector import projector as visits_projector

PROJECTORS: list[Projector] = [
    crm_projector,
    trips_projector,
    visits_projector,
    invitations_projector,
]
