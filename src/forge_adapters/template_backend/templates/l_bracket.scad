// L bracket: two legs at a right angle, a fillet in the inside corner, and a row of
// screw holes through each leg.

/* [Legs] */
// horizontal leg length
leg_a = 50; // [15:0.1:500]
// vertical leg height
leg_b = 50; // [15:0.1:500]
// bracket width
width = 30; // [8:0.1:500]
// leg thickness (also the inside fillet)
thickness = 5; // [2:0.1:30]

/* [Screw holes] */
// screw hole diameter
hole_diameter = 5; // [2:0.1:20]
// screw holes in each leg
holes_per_leg = 2; // [0:1:6]

/* [Hidden] */
$fn = 48;

// forge:parts bracket
part = "all";  // what to draw: "all", or one of the parts named above

fillet = thickness;

module leg_holes(leg) {
    span = leg - thickness - hole_diameter * 2;
    for (i = [0 : 1 : holes_per_leg - 1])
        translate([thickness + hole_diameter + (holes_per_leg > 1 ? i * span / (holes_per_leg - 1) : span / 2),
                   width / 2])
            circle(d = hole_diameter);
}

module profile() {
    union() {
        square([leg_a, thickness]);
        square([thickness, leg_b]);
        translate([thickness, thickness])
            difference() {
                square(fillet);
                translate([fillet, fillet]) circle(r = fillet);
            }
    }
}

if (part == "all" || part == "bracket") difference() {
    rotate([90, 0, 0]) translate([0, 0, -width]) linear_extrude(height = width) profile();
    // holes through the horizontal leg (along z) and the vertical one (along x)
    translate([0, 0, -1]) linear_extrude(height = thickness + 2) leg_holes(leg_a);
    translate([-1, 0, 0]) rotate([0, 90, 0]) mirror([1, 0, 0])
        linear_extrude(height = thickness + 2) leg_holes(leg_b);
}
