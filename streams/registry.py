"""The projectors the worker runs, in the order they see each event (publicity last: it reads
what the others have just written, e.g. the partners a completed visit or trip concerns)."""

from twinning.calendar.projector import projector as calendar_projector
from twinning.crm.projector import projector as crm_projector
from twinning.gifts.projector import projector as gifts_projector
from twinning.invitations.projector import projector as invitations_projector
from twinning.mail.notices import projector as notices_projector
from twinning.plans.projector import projector as plans_projector
from twinning.press.projector import projector as press_projector
from twinning.publicity.projector import projector as publicity_projector
from twinning.schedule.projector import projector as schedule_projector
from twinning.streams.projection import Projector
from twinning.trips.projector import projector as trips_projector
from twinning.visits.projector import projector as visits_projector

# The calendar comes after the domains (it derives its entries from the read models they just
# updated), and publicity last (it reads what all of them wrote).
# The notices to officials come before the domains: they compare a booking before and after.
PROJECTORS: list[Projector] = [
    notices_projector,
    crm_projector,
    trips_projector,
    visits_projector,
    invitations_projector,
    schedule_projector,
    plans_projector,
    gifts_projector,
    press_projector,
    calendar_projector,
    publicity_projector,
]
