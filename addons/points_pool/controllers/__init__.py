from . import portal, referral
