// Publish this codeunit as a SOAP web service named HarmonySalesOrder (Web Services page:
// Object Type = Codeunit, Object ID = 50100, Service Name = HarmonySalesOrder, Published).
// Harmony's Dynamics NAV connector calls ReleaseSalesOrder to confirm an order: the Sales
// Order page's Status field is not editable and page actions (Release) are not SOAP
// operations, so releasing needs a codeunit. Renumber 50100 to fit your object range; set
// DYNAMICS_NAV_RELEASE_CODEUNIT if you publish it under another name.
codeunit 50100 "Harmony Sales Order"
{
    // Releases sales order DocumentNo as the Release action does (approval checks
    // included). Releasing a released order changes nothing.
    procedure ReleaseSalesOrder(documentNo: Code[20])
    var
        SalesHeader: Record "Sales Header";
        ReleaseSalesDocument: Codeunit "Release Sales Document";
    begin
        SalesHeader.Get(SalesHeader."Document Type"::Order, documentNo);
        ReleaseSalesDocument.PerformManualRelease(SalesHeader);
    end;
}
