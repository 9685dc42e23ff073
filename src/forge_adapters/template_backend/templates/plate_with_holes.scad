// Plate with holes: a rounded rectangle with a grid of through holes, inset from its
// edges by one and a half hole diameters.

/* [Plate] */
// plate length
length = 120; // [10:0.1:1000]
// plate width
width = 80; // [10:0.1:1000]
// plate thickness
thickness = 4; // [1:0.1:50]
// corner radius
corner_radius = 3; // [0.5:0.1:3]

/* [Holes] */
// hole diameter
hole_diameter = 5; // [1:0.1:50]
// rows of holes in the grid
hole_rows = 2; // [0:1:24]
// holes in each row of the grid
hole_columns = 2; // [0:1:24]

/* [Hidden] */
$fn = 48;

// forge:parts plate
part = "all";  // what to draw: "all", or one of the parts named above

inset = hole_diameter * 1.5;

module holes() {
    for (c = [0 : 1 : hole_columns - 1], r = [0 : 1 : hole_rows - 1])
        translate([
            hole_columns > 1 ? -length / 2 + inset + c * (length - 2 * inset) / (hole_columns - 1) : 0,
            hole_rows > 1 ? -width / 2 + inset + r * (width - 2 * inset) / (hole_rows - 1) : 0
        ])
            circle(d = hole_diameter);
}

if (part == "all" || part == "plate") linear_extrude(height = thickness)
    difference() {
        offset(r = corner_radius) offset(delta = -corner_radius) square([length, width], center = true);
        holes();
    }
