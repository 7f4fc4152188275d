from . import points_compliance_report
